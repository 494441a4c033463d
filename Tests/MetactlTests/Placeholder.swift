// Tests for Metactl are added by the issue that builds it.
