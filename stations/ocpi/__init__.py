"""The OCPI modules that bring station data in: Locations and Tariffs receivers, their error
table and routes, and the writers that store what pulls bring. OCPI's wire rules come from
`ocpi_peer`; what is stored is `stations.services`'s business."""
