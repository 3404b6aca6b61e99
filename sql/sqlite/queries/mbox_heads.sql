SELECT m.message_id,
       substr(CAST(m.content AS BLOB), 1, 2000),
       substr(CAST(m.content AS BLOB), 2001, 2000),
       substr(CAST(m.content AS BLOB), 4001, 2000),
       substr(CAST(m.content AS BLOB), 6001, 2000)
FROM es_message m
WHERE m.message_id IN (:id01, :id02, :id03, :id04, :id05, :id06, :id07, :id08,
       :id09, :id10, :id11, :id12, :id13, :id14, :id15, :id16,
       :id17, :id18, :id19, :id20, :id21, :id22, :id23, :id24,
       :id25, :id26, :id27, :id28, :id29, :id30, :id31, :id32)
