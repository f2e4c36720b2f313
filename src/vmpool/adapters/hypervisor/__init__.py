"""The libvirt implementation of the `Hypervisor` port."""
