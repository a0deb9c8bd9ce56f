"""Users of a tenant: the learners that imports provision and exports list."""
