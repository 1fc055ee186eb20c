"""What ships and deploys: the README, the Bicep, the workflow, .funcignore, the grant scripts."""
