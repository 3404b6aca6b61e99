UPDATE es_route SET route_cost = :route_cost WHERE route_id = :route_id
