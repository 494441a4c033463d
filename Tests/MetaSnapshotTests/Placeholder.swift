// Tests for MetaSnapshot are added by the issue that builds it.
