from shared.alembic_env import run

from scoring.adapters.tables import Base

run(Base.metadata)
