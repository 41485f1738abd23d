from gateway.adapters.tables import Base
from shared.alembic_env import run

run(Base.metadata)
