from shared.alembic_env import run

from collections_service.adapters.tables import Base

run(Base.metadata)
