"""Adapters: the database (SQLAlchemy mapping and repositories) and the libvirt hypervisor."""
