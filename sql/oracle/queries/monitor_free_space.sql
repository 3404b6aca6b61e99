SELECT tablespace_name, SUM(bytes)
FROM user_free_space
GROUP BY tablespace_name
ORDER BY tablespace_name
