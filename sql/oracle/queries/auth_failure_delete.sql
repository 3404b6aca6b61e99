DELETE FROM es_auth_failure WHERE remote_addr = :remote_addr AND login_name = :login_name
