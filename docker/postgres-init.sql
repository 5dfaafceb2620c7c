-- One database per subgraph: no service reads another's data.
CREATE DATABASE users;
CREATE DATABASE catalog;
CREATE DATABASE orders;
CREATE DATABASE reviews;
