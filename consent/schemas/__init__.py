"""marshmallow schemas: the site configuration format and the API's messages."""
