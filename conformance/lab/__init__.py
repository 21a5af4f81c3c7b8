"""Network-namespace lab: topologies, implementations, observation, faults, teardown."""

from .impl import IMPLEMENTATIONS, REFERENCE, Implementation, PidFiles, get
from .lab import Capture, Daemon, FaultUnsupported, Lab, LabError, Proc, netem_available
from .observe import AddressObserver, AddrEvent
from .pcap import (
    Arp,
    Frame,
    NeighborAdvert,
    VrrpAdvert,
    arps,
    neighbor_adverts,
    read_pcap,
    vrrp_adverts,
)
from .state import cleanup
from .topology import Topology, TopologyError

__all__ = [
    "IMPLEMENTATIONS", "REFERENCE", "Implementation", "PidFiles", "get",
    "Capture", "Daemon", "FaultUnsupported", "Lab", "LabError", "Proc", "netem_available",
    "AddrEvent", "AddressObserver", "Arp", "Frame", "NeighborAdvert", "VrrpAdvert", "arps",
    "neighbor_adverts", "read_pcap",
    "vrrp_adverts", "cleanup", "Topology", "TopologyError",
]
