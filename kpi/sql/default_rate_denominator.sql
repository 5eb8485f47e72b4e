-- The default denominator of a rate per 10,000: the 0-17 population of the calendar year in which the
-- month's financial year starts (2017/18 uses the mid-2017 estimate), or the latest earlier year present.
SELECT p.month, pop.year AS population_year, pop.population AS value
FROM period p
JOIN ref_population pop
  ON pop.age_band = '0-17'
 AND pop.year = (SELECT max(r.year) FROM ref_population r
                 WHERE r.age_band = '0-17' AND r.year <= year(p.fy_start))
