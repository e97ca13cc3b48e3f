package portal

// PageSize is the rows a console list page shows, for the browser tests.
const PageSize = pageSize
