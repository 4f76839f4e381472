"""Lambda handlers of the export state machine: Powertools decorators → parse → one step → small JSON."""
