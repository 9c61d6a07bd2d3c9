using Microsoft.Extensions.Hosting;

// The silo host. Orleans, Redis clustering, storage and reminders arrive with the grain cluster (issue 3);
// until then this is an empty generic host.
var builder = Host.CreateApplicationBuilder(args);
builder.Build().Run();
