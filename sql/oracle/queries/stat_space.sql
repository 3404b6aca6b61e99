SELECT tablespace_name, SUM(bytes)
FROM user_segments
GROUP BY tablespace_name
ORDER BY tablespace_name
