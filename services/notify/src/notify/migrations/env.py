from shared.alembic_env import run

from notify.adapters.tables import Base

run(Base.metadata)
