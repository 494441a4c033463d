// Tests for MetaFSM are added by the issue that builds it.
