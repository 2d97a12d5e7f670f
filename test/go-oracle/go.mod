module certdesk.test/go-oracle

go 1.24
