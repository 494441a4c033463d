// MetaSnapshot: snapshot file format, streaming writer and reader, snapshot store, chunked transfer.
// Filled in by the MetaSnapshot issue.
