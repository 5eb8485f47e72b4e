-- Dimensions: what a scorecard can be broken down by (`kpi compute --by team`), declared once here
-- for every indicator. A dimension is a scalar macro named dimension_<name>(child_id, on_date): the
-- group of one child on one date, or NULL when the child has none (shown as the `(none)` group). The
-- engine calls it with the child and the date of each row an indicator counts (docs/breakdowns.md),
-- so every unit is in exactly one group and the groups add up to the total.
-- A row that carries a column named like the dimension (`team`) is grouped by that column instead.

-- The team of the social worker allocated to the child on the date (ssd_involvements); when several
-- allocations are open, the one that began latest. A child with none, the team of the child's open
-- CIN episode (the referral's team, ssd_cin_episodes.cine_referral_team).
CREATE OR REPLACE MACRO dimension_team(child_id, on_date) AS coalesce(
    (SELECT first(i.invo_professional_team ORDER BY i.invo_involvement_start_date DESC, i.invo_involvements_id)
     FROM ssd_involvements i
     WHERE i.invo_person_id = child_id
       AND is_open_at(i.invo_involvement_start_date, i.invo_involvement_end_date, on_date)
       AND i.invo_professional_team IS NOT NULL),
    (SELECT first(e.cine_referral_team ORDER BY e.cine_referral_date DESC, e.cine_referral_id)
     FROM ssd_cin_episodes e
     WHERE e.cine_person_id = child_id
       AND is_open_at(e.cine_referral_date, e.cine_close_date, on_date)
       AND e.cine_referral_team IS NOT NULL));

-- The allocated worker on the date (their professional id), chosen as the team is.
CREATE OR REPLACE MACRO dimension_worker(child_id, on_date) AS coalesce(
    (SELECT first(i.invo_professional_id ORDER BY i.invo_involvement_start_date DESC, i.invo_involvements_id)
     FROM ssd_involvements i
     WHERE i.invo_person_id = child_id
       AND is_open_at(i.invo_involvement_start_date, i.invo_involvement_end_date, on_date)
       AND i.invo_professional_id IS NOT NULL),
    (SELECT first(e.cine_referral_worker_id ORDER BY e.cine_referral_date DESC, e.cine_referral_id)
     FROM ssd_cin_episodes e
     WHERE e.cine_person_id = child_id
       AND is_open_at(e.cine_referral_date, e.cine_close_date, on_date)
       AND e.cine_referral_worker_id IS NOT NULL));

-- Age on the date in the DfE's bands (children looked after, children in need): under 1, 1 to 4,
-- 5 to 9, 10 to 15, 16 to 17, and 18 and over (care leavers). No date of birth, or one after the
-- date: no group.
CREATE OR REPLACE MACRO dimension_age_band(child_id, on_date) AS (
    SELECT CASE
               WHEN a < 0 THEN NULL
               WHEN a < 1 THEN '0 (under 1)'
               WHEN a < 5 THEN '1 to 4'
               WHEN a < 10 THEN '5 to 9'
               WHEN a < 16 THEN '10 to 15'
               WHEN a < 18 THEN '16 to 17'
               ELSE '18 and over'
           END
    FROM (SELECT age_in_years(dob, on_date) AS a
          FROM (SELECT min(pe.pers_dob) AS dob FROM ssd_person pe WHERE pe.pers_person_id = child_id)));

-- Sex and ethnicity as the person record gives them (the codes of the CIN census and SSDA903).
CREATE OR REPLACE MACRO dimension_sex(child_id, on_date) AS
    (SELECT min(pe.pers_sex) FROM ssd_person pe WHERE pe.pers_person_id = child_id);

CREATE OR REPLACE MACRO dimension_ethnicity(child_id, on_date) AS
    (SELECT min(pe.pers_ethnicity) FROM ssd_person pe WHERE pe.pers_person_id = child_id);

-- For children looked after: the legal status open on the date (the one that began latest), and the
-- type of the placement open on the date (the same). Other children: no group.
CREATE OR REPLACE MACRO dimension_legal_status(child_id, on_date) AS
    (SELECT first(upper(trim(l.lega_legal_status)) ORDER BY l.lega_legal_status_start_date DESC, l.lega_legal_status_id)
     FROM ssd_legal_status l
     WHERE l.lega_person_id = child_id
       AND is_open_at(l.lega_legal_status_start_date, l.lega_legal_status_end_date, on_date));

CREATE OR REPLACE MACRO dimension_placement_type(child_id, on_date) AS
    (SELECT first(upper(trim(pl.placement_type)) ORDER BY pl.start_date DESC, pl.clap_cla_placement_id)
     FROM cla_placements pl
     WHERE pl.person_id = child_id
       AND is_open_at(pl.start_date, pl.end_date, on_date));
