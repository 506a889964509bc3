-- The serving visibility rule over a catalog row (terrace.serving.visibility.Audience renders the
-- same rule for Python and CQL2): the caller sees the levels it holds outright, and a restricted
-- row when it holds one of the row's granted roles. A plain SQL expression, so the planner inlines it.
CREATE OR REPLACE FUNCTION geo.visible_to(
    access_level geo.access_level, granted_roles text[], levels text[], roles text[]
) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT access_level::text = ANY (levels)
        OR (access_level = 'restricted' AND granted_roles && roles)
$$;
