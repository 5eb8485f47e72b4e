-- Allocations of children to social workers (CSC 183, 227). Views only; indicators join `period`.

-- One row per allocation of a child to a qualified social worker: an involvement whose professional
-- is flagged prof_is_qualified_sw (an unknown flag is not qualified). Any role counts. Allocated on
-- day d: is_open_at(start_date, end_date, d).
CREATE OR REPLACE VIEW qualified_sw_allocations AS
SELECT i.invo_involvements_id,
       i.invo_person_id              AS person_id,
       i.invo_professional_id,
       pr.prof_social_worker_registration_no,
       i.invo_professional_team,
       i.invo_involvement_start_date AS start_date,
       i.invo_involvement_end_date   AS end_date
FROM ssd_involvements i
JOIN ssd_professionals pr ON pr.prof_professional_id = i.invo_professional_id
WHERE pr.prof_is_qualified_sw;
