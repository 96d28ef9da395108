"""One router per subsystem; handlers are thin and call the library."""
