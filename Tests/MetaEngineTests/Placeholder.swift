// Tests for MetaEngine are added by the issue that builds it.
