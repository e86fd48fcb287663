module github.com/datahike-cpp/datahike/bindings/go

go 1.24
