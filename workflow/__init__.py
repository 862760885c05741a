"""Privacy-request lifecycle, durable action queue, worker, approvals, deadlines, executors."""
