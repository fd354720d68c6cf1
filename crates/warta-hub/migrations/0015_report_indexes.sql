-- Reports and the dashboard (issue 7) read rows of a period: items published in it, step
-- visits and incident step visits begun in it, guard incidents opened in it. Without these
-- indexes each report would read the whole items table (see the performance invariant).
-- Only published items enter the first index, so creating an item does not grow it.
-- IF NOT EXISTS: should a migration numbered 0015 be put before this one later, a database
-- that already has these indexes takes this file again without failing.
CREATE INDEX IF NOT EXISTS items_published_at ON items(published_at) WHERE published_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS step_visits_entered ON step_visits(entered_at);
CREATE INDEX IF NOT EXISTS incident_steps_entered ON incident_steps(entered_at);
CREATE INDEX IF NOT EXISTS guard_incidents_opened ON guard_incidents(opened_at);
