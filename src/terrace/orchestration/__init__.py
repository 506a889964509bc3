"""CoreMachine: jobs of stages of parallel tasks, coordinated only through PostgreSQL."""
