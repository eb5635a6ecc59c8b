-- driftwatch's own history table: written by `driftwatch baseline
-- --record-history` (and by runners that want driftwatch's format).
CREATE TABLE IF NOT EXISTS {table} (
    installed_rank serial PRIMARY KEY,
    version text,
    description text NOT NULL,
    kind text NOT NULL DEFAULT 'sql',
    checksum text,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user,
    success boolean NOT NULL,
    reason text
)
