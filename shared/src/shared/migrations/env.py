from shared.alembic_env import run
from shared.messaging.schema import metadata

run(metadata)
