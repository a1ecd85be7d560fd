module github.com/vkclr/vkclr

go 1.26

require (
	github.com/spf13/pflag v1.1.0
	github.com/vulkan-go/vulkan v0.0.0-20221209234627-c0a353ae26c8
)
