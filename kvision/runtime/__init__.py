"""Run-time machinery: crash-safe training state."""
