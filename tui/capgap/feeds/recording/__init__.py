"""Recording a session to disk and playing it back: the recorder, the recorded and replay feeds."""
