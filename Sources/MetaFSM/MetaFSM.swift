// MetaFSM: the StateMachine seam, the protobuf wire codec, the InfluxDB meta model, the KV model.
// Filled in by the MetaFSM issue.
