// Tests for MetaLog are added by the issue that builds it.
