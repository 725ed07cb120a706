package main

// The README's first program runs and prints what it says.
func Example() {
	main()
	// Output: got tag 1: hello
}
