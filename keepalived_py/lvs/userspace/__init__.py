"""The userspace IPVS dataplane: balancing where the kernel has no ip_vs (issue 18)."""
