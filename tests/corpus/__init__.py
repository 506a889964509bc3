"""The real-world corpus: public geodata from package registries, checked against GDAL."""
