-- Whether a caller may see a release (terrace.platform.visibility.Viewer gives the caller):
-- served releases by the serving rule (geo.visible_to over the caller's levels and roles), the
-- other releases (drafts, rejected, revoked) by the same rule when the caller reviews (`drafts`),
-- and any release the caller submitted itself (`actor`, the submitter recorded on its requests).
CREATE OR REPLACE FUNCTION app.release_visible_to(
    p_release_id text, levels text[], roles text[], drafts boolean, actor text
) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT 1 FROM app.asset_releases r
        WHERE r.release_id = p_release_id
          AND ((r.approval_state = 'approved' AND r.is_served) OR drafts)
          AND geo.visible_to(r.access_level, r.granted_roles, levels, roles))
    OR EXISTS (
        SELECT 1 FROM app.api_requests q WHERE q.release_id = p_release_id AND q.submitted_by = actor)
$$;
