from shared.alembic_env import run

from monitoring.adapters.tables import Base

run(Base.metadata)
