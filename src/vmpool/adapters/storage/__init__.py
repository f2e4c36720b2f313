"""Files on the daemon's machine: the image store and `qemu-img`."""
