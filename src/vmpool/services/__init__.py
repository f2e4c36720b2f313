"""Use cases. Each runs in one unit of work; none commits on its own behalf
except through `uow.commit()`, and none imports FastAPI or libvirt."""
