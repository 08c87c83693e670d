/* an earlier output: an error must leave it as it is */
