DELETE FROM es_route WHERE route_id = :route_id
