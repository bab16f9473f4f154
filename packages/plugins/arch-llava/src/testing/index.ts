// Test fixtures of @mmft/arch-llava (filled as the package grows).
export {};
