package main

// The top-level README's Go example (this package's main.go) runs and prints what it says.
func Example() {
	main()
	// Output: got tag 1: hello
}
