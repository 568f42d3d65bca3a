"""The OCPI modules of what drivers buy: Sessions and CDRs receivers, our Tokens (and real-time
authorisation), Command results; their error table and routes, and the writer that stores
pulled CDRs. OCPI's wire rules come from `ocpi_peer`; the services decide."""
