"""Assets, releases, the tables they own, the approval state machine, and publication."""
