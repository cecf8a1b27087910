"""docex benchmarks: each module measures docex side by side with a named peer (make bench)."""
